"""Read pages: what the panels, the CLI and the notebook browsers list and show.

A page joins what several domains store (a model's versions with their
evaluations), so it sits a layer above the stores it reads: the model store
does not know the evaluation store, the page knows both.
"""
