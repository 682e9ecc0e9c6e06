"""The HTTP edge: typed dependencies (`deps`), query parameters and answers shared by the routes
(`params`), error handlers (`errors`), middlewares (`middleware`) and one router per concern (`routes`).
"""
