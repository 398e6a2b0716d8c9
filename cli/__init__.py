"""launchtier's command line, in the order a command runs:

    main.py      the click group; adds the commands
    commands/    one module per group of commands: parse, call one engine function
    render/      the reporters: the engine's results as text, Markdown, CSV, HTML
    output.py    writing to the terminal; errors.py: the engine's exceptions as exit codes

Nothing here decides anything: a web page calls the same engine functions the commands do.
"""
