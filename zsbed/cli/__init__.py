"""The command line on top of everything: argparse, the checks of every input
before a run, the generated reference, make lint."""
