"""Built-in architecture plugins, one package each.

Each package's ``__init__`` is the catalogue card (the architecture spec and
its typed config, no torch import); its ``model`` module is the lecture-note
figure: the model, and whichever hooks differ from the task defaults.
"""

#: plugin name -> module, loaded by the host in this order.
BUILTIN = {
    "mlp": "archzoo.plugins.mlp",
    "cnn": "archzoo.plugins.cnn",
    "perceptron": "archzoo.plugins.perceptron",
    "logistic": "archzoo.plugins.logistic",
    "linear-svm": "archzoo.plugins.linear_svm",
    "resnet": "archzoo.plugins.resnet",
    "vit": "archzoo.plugins.vit",
    "gnn": "archzoo.plugins.gnn",
    "rnn": "archzoo.plugins.rnn",
    "transformer": "archzoo.plugins.transformer",
    "gpt": "archzoo.plugins.gpt",
    # generative models (issue #6)
    "autoencoder": "archzoo.plugins.autoencoder",
    "vae": "archzoo.plugins.vae",
    "dcgan": "archzoo.plugins.dcgan",
    "ddpm": "archzoo.plugins.ddpm",
    # pretrained encoders (issue #5)
    "bert-features": "archzoo.plugins.bert_features",
    "lora": "archzoo.plugins.lora",
}
