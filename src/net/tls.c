/* SPDX-License-Identifier: MIT */
/*
 * What a finished transfer tells about the server's TLS certificate. libcurl
 * keeps the peer's chain as text (CURLOPT_CERTINFO) whatever its TLS
 * backend; we read the leaf's PEM with libcrypto rather than parse the
 * backend-specific date strings next to it.
 */
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include <curl/curl.h>

#include "net/net.h"

int net_tls_cert_days_left(CURL *easy, double *ret_days)
{
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
        return HALE_ENOTFOUND;
    const char *pem = NULL;
    for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
        if (strncmp(l->data, "Cert:", 5) == 0)
            pem = l->data + 5;
    if (!pem)
        return HALE_ENOTFOUND;

    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (!bio)
        return HALE_EPARSE;
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!x)
        return HALE_EPARSE;
    int days = 0, secs = 0;
    /* From now (NULL) to the end of validity: negative once it has passed. */
    int ok = ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
    X509_free(x);
    if (!ok)
        return HALE_EPARSE;
    *ret_days = days + secs / 86400.0;
    return 0;
}
