"""The Prism data simulator's code, by job.

`prism.reporting` renders the six dashboards' PDF reports. The top-level modules named in the design
card (`main.py`, `config.py`, `models.py`, `data_generator.py`, `report_generator.py`,
`dynamodb_client.py`) are the doors a reader of the original README looks for.
"""
