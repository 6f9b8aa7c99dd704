/*
 * fuzz_settings.c - libFuzzer harness for the shim's list settings:
 * TCPCRYPT_PORTS / TCPCRYPT_EXCLUDE_PORTS (tc_config_parse_ports,
 * shim/settings.c) and TCPCRYPT_AEAD (tc_aead_parse_list, libtcpcrypt).
 *
 * Input: the value (cut at the first NUL), given to both parsers. Checks
 * with abort(): a port list has at most its maximum of ranges, each with
 * lo <= hi, and tc_config_port_ok agrees with the ranges for every port
 * at their edges; an AEAD list has at most its capacity of known ids.
 */
/* fuzz-extra: shim/settings.c shim/log.c shim/libc_syms.c shim/ownfd.c shim/state.c -Ishim -ldl */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int in(const struct tc_port_range *r, int n, unsigned port)
{
	for (int i = 0; i < n; i++)
		if (port >= r[i].lo && port <= r[i].hi)
			return 1;
	return 0;
}

static void ports(const char *s)
{
	struct tc_port_range r[TC_CFG_MAX_RANGES];
	int n = tc_config_parse_ports(s, r, TC_CFG_MAX_RANGES);

	CHECK(n == -EINVAL || (n >= 0 && n <= TC_CFG_MAX_RANGES));
	if (n <= 0)
		return;
	for (int i = 0; i < n; i++)
		CHECK(r[i].lo <= r[i].hi);
	/* as the include list, then as the exclude list */
	memset(&tc_cfg, 0, sizeof(tc_cfg));
	memcpy(tc_cfg.ports, r, sizeof(r[0]) * (size_t)n);
	tc_cfg.nports = n;
	for (int i = 0; i < n; i++) {
		unsigned e[4] = { r[i].lo, r[i].hi, r[i].lo - 1u, r[i].hi + 1u };

		for (int j = 0; j < 4; j++)
			if (e[j] <= 65535)
				CHECK(tc_config_port_ok((uint16_t)e[j]) == in(r, n, e[j]));
	}
	tc_cfg.nports = 0;
	memcpy(tc_cfg.exclude, r, sizeof(r[0]) * (size_t)n);
	tc_cfg.nexclude = n;
	for (int i = 0; i < n; i++)
		CHECK(tc_config_port_ok(r[i].lo) == 0 && tc_config_port_ok(r[i].hi) == 0);
	memset(&tc_cfg, 0, sizeof(tc_cfg));
}

static void aeads(const char *s)
{
	uint16_t ids[TC_CFG_MAX_AEADS];
	int n = tc_aead_parse_list(s, ids, TC_CFG_MAX_AEADS);

	CHECK(n == -EINVAL || (n >= 0 && n <= TC_CFG_MAX_AEADS));
	for (int i = 0; i < n; i++)
		CHECK(tc_aead_name(ids[i]) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	ports(s);
	aeads(s);
	free(s);
	return 0;
}
