from infractl.cli import main

main()
