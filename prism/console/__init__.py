"""The live console's files: one HTML page, its ES modules and its style sheet, served by `api/routes/console`.

Hand-written, no build step and no library: the page reads the same public API as any client.
"""
