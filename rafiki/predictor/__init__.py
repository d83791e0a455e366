"""The predictor's parts that need no Django: per-task query checks, ensembling, and the
Redis protocol between the web processes and the inference workers.

- ``queries.validate_queries(task, queries, *, features=None)`` raises ``InvalidQueryError``
- ``ensemble.ensemble_predictions(task, answers)`` -> one prediction per query
- ``bus.PredictionBus(redis)``: ``ask`` (web side), ``take`` / ``reply`` (worker side)
"""
