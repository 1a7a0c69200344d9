"""Deterministic demo data: `flask demo` loads a partnership (or a national-scale) world.

geography, schools, bodies, networks, people, offers and requests each add one part of the
world in a fixed order from one seeded Random, with every date measured from an anchor day
(schoolyear holds the calendar); loader bulk-inserts the result, then history plays a year of
credits and bookings through the services; cli is the command.
"""
