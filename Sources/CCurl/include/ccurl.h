#pragma once
#include <curl/curl.h>

// Swift cannot call C variadic functions, so every curl_easy_setopt /
// curl_easy_getinfo / curl_multi_setopt call goes through one of these
// fixed-signature wrappers. Each wrapper only forwards; the caller must pick
// the variant whose value type matches what libcurl expects for `option`.

// Same shape as curl_write_callback; named so Swift sees one C function type
// for both the body and the header callback.
typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t nmemb, void *userdata);

// CURL_GLOBAL_DEFAULT is a macro expression Swift may not import.
CURLcode ccurl_global_init(void);

CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode ccurl_easy_setopt_write_function(CURL *handle, ccurl_data_callback callback);
CURLcode ccurl_easy_setopt_header_function(CURL *handle, ccurl_data_callback callback);
CURLcode ccurl_easy_setopt_read_function(CURL *handle, ccurl_data_callback callback);

CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode ccurl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value);

CURLMcode ccurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
