from uniqodo_mock.cli import main

main()
