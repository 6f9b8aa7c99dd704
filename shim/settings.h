/*
 * settings.h - the shim's settings, read once from TCPCRYPT_* environment
 * variables with secure_getenv (ignored in set-user-ID processes).
 */
#ifndef TC_SHIM_SETTINGS_H
#define TC_SHIM_SETTINGS_H

#include <stdint.h>

#define TC_CFG_MAX_RANGES 32
#define TC_CFG_MAX_AEADS  8
#define TC_CFG_OWN_MAPPINGS 1024

struct tc_port_range { uint16_t lo, hi; };

struct tc_config {
	int disable;             /* TCPCRYPT_DISABLE=1: pass everything through */
	int require;             /* TCPCRYPT_REQUIRE=1: no plain-TCP fallback */
	int app_aware;           /* TCPCRYPT_APP_AWARE: 0, 1, 2 (mandatory) */
	int nports, nexclude;    /* TCPCRYPT_PORTS / TCPCRYPT_EXCLUDE_PORTS */
	struct tc_port_range ports[TC_CFG_MAX_RANGES];
	struct tc_port_range exclude[TC_CFG_MAX_RANGES];
	int naeads;              /* TCPCRYPT_AEAD (0: the engine's default list) */
	uint64_t rekey_bytes;    /* TCPCRYPT_REKEY_BYTES: start a rekey after this many bytes sent (0: never) */
	long own_mappings;       /* TCPCRYPT_OWN_MAPPINGS: connections whose state gets a
	                          * memory mapping of its own; beyond, 64 share one */
	uint16_t aeads[TC_CFG_MAX_AEADS];
};

extern struct tc_config tc_cfg;

/* Reads the environment (the constructor calls it once). */
void tc_config_init(void);
/* Parses "80,443,8000-8100" into r (at most max); returns the count or -EINVAL. */
int tc_config_parse_ports(const char *s, struct tc_port_range *r, int max);
/* 1 if the port takes part under the include/exclude lists. */
int tc_config_port_ok(uint16_t port);

#endif
