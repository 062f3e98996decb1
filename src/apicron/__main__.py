from apicron.cli.main import main

main()
