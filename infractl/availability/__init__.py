"""Availability review of a stack: each path's figure, target and weakest link, and the
difference between two plans.

``report`` reads, renders and compares a stack's ``availability`` output; ``cli`` is
``infractl availability``.
"""
