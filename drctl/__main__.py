from drctl.cli.main import main

main()
