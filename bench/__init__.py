"""Quick measurements, run by hand (``python -m bench.<name>``); never timed tests."""
