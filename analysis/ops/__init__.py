"""Operations: the staff dashboard at /ops/ (views, panels) and housekeeping."""
