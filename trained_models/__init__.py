"""The models shipped with ticketbot: pickles and the manifests that vouch for them.

Rebuild them with ``ticketbot train department`` and ``ticketbot train intent``.
"""

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
