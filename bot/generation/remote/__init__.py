"""Generation over HTTP in the OpenAI API's shape, both ways.

``service.RemoteGenerationService`` writes through a model server (``model.backend =
"openai"``); ``server`` is ``python -m bot serve``, Inkwell's own engine behind that API. The
client side never imports torch.
"""
