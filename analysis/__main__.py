import sys

# Ctrl-C at any moment, also while the command's modules are still importing, is one line
# and exit status 130 (the shell's convention for SIGINT), never a traceback.
try:
    from analysis.cli import main

    code = main()
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    code = 130
raise SystemExit(code)
