"""Studies: named sets of runs over a grid of settings and seeds, or a search space, on Optuna.

``spec`` says what a study is and ``space`` what a search may sample (both
torch-free); ``work`` keeps studies in their storage and runs a grid's
trials, ``search`` a search's, each one an ordinary run (``trial``), stopped
early by the median rule when asked (``pruning``); ``results`` folds a grid
into the table of mean and spread per cell, beside the lecture notes' printed
numbers, and ``search_results`` lists a search's trials best first.
"""
