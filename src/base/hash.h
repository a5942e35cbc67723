/* SPDX-License-Identifier: MIT */
/*
 * Hashing and randomness: SHA-256 (token storage), HMAC-SHA256 (signed
 * notifications), secure random bytes (new tokens), a constant-time
 * comparison for secrets, and a fast non-cryptographic hash for telling
 * texts apart in memory (what an event says).
 */
#ifndef HALE_BASE_HASH_H
#define HALE_BASE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * Adds len bytes of data, and len itself, to the running hash h, eight
 * bytes at a time: a text of tens of bytes costs a few multiplications,
 * where FNV-1a's byte at a time costs one each. Since the length goes in,
 * "ab" then "c" differs from "a" then "bc" without separators. Start from
 * any constant, end with hash_finish(). Not promised to stay the same
 * from one version of hale to the next: what stores it must accept that
 * another version computes other values. Not for the keys of a table an
 * attacker can fill either (no seed). Pure; any thread.
 */
uint64_t hash_add(uint64_t h, const void *data, size_t len);

/* The same for the NUL-terminated s (NULL: as "", plus a mark, so NULL and "" differ). */
uint64_t hash_add_str(uint64_t h, const char *s);

/* The running hash h mixed so that every bit of it depends on every byte added. */
uint64_t hash_finish(uint64_t h);

#endif
