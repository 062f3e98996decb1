"""schemathesis over /openapi.json of a real server: no 5xx, every answer matches the schema.

positive_data_acceptance is excluded on purpose: many rules (a valid cron expression, a
published API, a grant) cannot be expressed in JSON Schema, so schema-valid requests are
rightly refused with 400.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.servers import ADMIN_TOKEN, ApicronProcess


def test_the_api_honours_its_own_openapi_schema(tmp_path: Path) -> None:
    server = ApicronProcess(tmp_path / "data").start()
    try:
        st = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
        assert st is not None, "schemathesis is a test dependency"
        result = subprocess.run(
            [
                st, "run", f"{server.url}/openapi.json",
                "--header", f"Authorization: Bearer {ADMIN_TOKEN}",
                "--checks", "all",
                "--exclude-checks", "positive_data_acceptance",
                "--max-examples", "25",
                "--workers", "2",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert "Traceback" not in server.log()
    finally:
        server.stop()
