"""Deterministic demo data: `flask demo` loads a partnership (or a national-scale) world.

geography, schools, bodies, networks and people each add one part of the world in a fixed
order from one seeded Random; loader bulk-inserts the result; cli is the command.
"""
