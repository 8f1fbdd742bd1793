"""Output for people (rich tables and panels) and for machines (the reference JSON).

``machine`` imports only the standard library; ``human`` imports rich and is loaded only when a
table is printed (design: speed rules).
"""
