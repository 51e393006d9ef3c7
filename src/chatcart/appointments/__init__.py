"""Appointments: services, opening hours, free slots, booking in chat, bookings admin."""
