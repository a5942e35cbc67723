/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 through OpenSSL's libcrypto, randomness through getrandom(2), and
 * a word-at-a-time hash of our own for texts compared in memory.
 */
#include "base/hash.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

static void hex_digest(const unsigned char md[SHA256_DIGEST_LENGTH],
                       char out[HASH_SHA256_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[HASH_SHA256_HEX_LEN] = '\0';
}

void hash_sha256_hex(const void *data, size_t len, char out[HASH_SHA256_HEX_LEN + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    hex_digest(md, out);
}

void hash_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                          char out[HASH_SHA256_HEX_LEN + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned int md_len = sizeof(md);
    static const unsigned char none;
    /* OpenSSL refuses a NULL key even when it is empty */
    HMAC(EVP_sha256(), key_len ? key : &none, (int)key_len, data, len, md, &md_len);
    hex_digest(md, out);
}

int hash_random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

bool hash_equal_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

#define HASH_MUL UINT64_C(0xff51afd7ed558ccd)

static uint64_t mix_word(uint64_t h, uint64_t w)
{
    h = (h ^ w) * HASH_MUL;
    return h ^ (h >> 32);
}

uint64_t hash_add(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t w;
    h = mix_word(h, (uint64_t)len);
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = mix_word(h, w);
    }
    /* The last 1 to 7 bytes, read in at most two loads (overlapping ones for 4 to 7). */
    if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + len - 4, 4);
        h = mix_word(h, (uint64_t)a << 32 | b);
    } else if (len > 0) {
        h = mix_word(h, (uint64_t)p[0] | (uint64_t)p[len / 2] << 8 | (uint64_t)p[len - 1] << 16);
    }
    return h;
}

uint64_t hash_add_str(uint64_t h, const char *s)
{
    if (!s)
        return mix_word(h, UINT64_C(0x9e3779b97f4a7c15));
    return hash_add(h, s, strlen(s));
}

uint64_t hash_finish(uint64_t h)
{
    h ^= h >> 29;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    return h ^ (h >> 32);
}
