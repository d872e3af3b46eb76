"""Cost review of a stack: its estimate, the difference between two, a chart, and last month's
actual spend beside the estimate.

``report`` reads, renders and compares a stack's cost outputs; ``cli`` is ``infractl cost``.
"""
