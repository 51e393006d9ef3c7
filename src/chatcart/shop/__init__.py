"""The shop in chat: cart, checkout, payments, order notifications, recommendations."""
