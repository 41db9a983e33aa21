"""What leaves the house: audience exports, disclosures to the notice's recipients, and the
register of copies handed to staff, tracked until they are destroyed (DESIGN §2.5)."""
