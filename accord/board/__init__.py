"""Accord Board: jobs, their graphs, components' metrics and models in the browser, served by the site.

:mod:`accord.board.router` has the pages and endpoints (:class:`~accord.board.router.Board`),
:mod:`accord.board.sessions` the login of a cluster site's board, :mod:`accord.board.links` the link
``accord job submit`` prints, :mod:`accord.board.docs` the offline ``/docs`` page. Nothing is imported
here, so the job service can import the links without the web side.
"""
