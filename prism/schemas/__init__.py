"""The API's pydantic models, by subject; `models.py` (the door the design card names) re-exports them."""
