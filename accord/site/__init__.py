"""A site: the services one organisation runs for the parties it hosts."""
