/* SPDX-License-Identifier: MIT */
/*
 * Hashing and randomness: SHA-256 (token storage), HMAC-SHA256 (signed
 * notifications), secure random
 * bytes (new tokens), and a constant-time comparison for secrets.
 */
#ifndef HALE_BASE_HASH_H
#define HALE_BASE_HASH_H

#include <stdbool.h>
#include <stddef.h>

#define HASH_SHA256_HEX_LEN 64

/* Writes the SHA-256 of data as 64 lowercase hex digits and a NUL into out. */
void hash_sha256_hex(const void *data, size_t len, char out[HASH_SHA256_HEX_LEN + 1]);

/*
 * Writes HMAC-SHA256(key, data) (RFC 2104) as 64 lowercase hex digits and
 * a NUL into out: the signature a receiver recomputes to trust a message.
 */
void hash_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                          char out[HASH_SHA256_HEX_LEN + 1]);

/* Fills buf with bytes from the kernel's CSPRNG; returns 0 or -errno. */
int hash_random_bytes(void *buf, size_t len);

/* Compares two strings in time that depends only on their lengths. */
bool hash_equal_secret(const char *a, const char *b);

#endif
