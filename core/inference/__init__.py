"""Using a checkpoint: what a person hands in, turned into a ``sample`` request,
and the answer turned back into something to show, one module per kind of task.

- :mod:`~archzoo.inference.sampling`: the one call into a ``sample`` hook; request keys per task
- :mod:`~archzoo.inference.classify`: ``predict`` and the classifying widgets (images, sketches, rows, texts, nodes)
- :mod:`~archzoo.inference.uncertainty`: MC-dropout, the mean and spread of passes with dropout on
- :mod:`~archzoo.inference.generation`: images and text from generators, images as files
- :mod:`~archzoo.inference.features`: embeddings on screen and in files
- :mod:`~archzoo.inference.inputs`, :mod:`~archzoo.inference.sketch`: inputs made to look like the training data
- :mod:`~archzoo.inference.data`: the split a checkpoint is judged on
"""

from archzoo.inference.classify import (
    NodePredictions,
    Prediction,
    classify_drawing,
    classify_image,
    classify_nodes,
    classify_rows,
    classify_texts,
    predict,
    predict_with_spread,
)
from archzoo.inference.features import Features, embed_to_file, extract_features
from archzoo.inference.generation import draw_images, generate_images, generate_text, sample_checkpoint_images
from archzoo.inference.sampling import REQUESTS, checkpoint_task, sample_checkpoint

__all__ = [
    "REQUESTS",
    "Features",
    "NodePredictions",
    "Prediction",
    "checkpoint_task",
    "classify_drawing",
    "classify_image",
    "classify_nodes",
    "classify_rows",
    "classify_texts",
    "draw_images",
    "embed_to_file",
    "extract_features",
    "generate_images",
    "generate_text",
    "predict",
    "predict_with_spread",
    "sample_checkpoint",
    "sample_checkpoint_images",
]
