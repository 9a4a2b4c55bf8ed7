"""Studies: named sets of runs over a grid of settings and seeds, on Optuna.

``spec`` says what a study is (torch-free), ``work`` runs its trials as
ordinary runs with their records, ``results`` folds them into the table of
mean and spread per cell, beside the lecture notes' printed numbers.
"""
