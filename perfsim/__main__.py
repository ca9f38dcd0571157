from perfsim.cli import main

main()
