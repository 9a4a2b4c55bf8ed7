"""The archzoo browser app (Gradio): ``archzoo ui`` runs :func:`archzoo.ui.app.launch`."""
