//! The SSL_CIPHER accessors a session user needs, over our own cipher table.
