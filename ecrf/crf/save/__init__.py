"""The steps of the one write path, each in a module named for its job.

``ecrf.crf.services.save_form`` and ``remove_row`` call them in order; read those two
functions for the sequence. The records the steps pass each other are small typed
dataclasses (``plan``); the results and refusals callers see are in ``outcome``.
"""
