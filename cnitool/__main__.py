from cnitool.cli import main

main()
