"""English formats: Django's, but times as 4:30 PM. Its "4:30 p.m." ends in a full stop, and every
sentence that ends on a time ("Your seat is held until … p.m..") would show two."""

TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "N j, Y, g:i A"
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"
