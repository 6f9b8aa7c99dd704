/*
 * settings.c - TCPCRYPT_* environment variables (see settings.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"
#include "settings.h"
#include "state.h"

int tc_config_parse_ports(const char *s, struct tc_port_range *r, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		unsigned long lo, hi;

		while (*s == ' ' || *s == ',')
			s++;
		if (!*s)
			break;
		lo = strtoul(s, &end, 10);
		if (end == s || lo > 65535)
			return -EINVAL;
		hi = lo;
		s = end;
		if (*s == '-') {
			s++;
			hi = strtoul(s, &end, 10);
			if (end == s || hi > 65535 || hi < lo)
				return -EINVAL;
			s = end;
		}
		if (*s && *s != ',' && *s != ' ')
			return -EINVAL;
		if (n == max)
			return -EINVAL;
		r[n].lo = (uint16_t)lo;
		r[n].hi = (uint16_t)hi;
		n++;
	}
	return n;
}

static int in_ranges(const struct tc_port_range *r, int n, uint16_t port)
{
	for (int i = 0; i < n; i++)
		if (port >= r[i].lo && port <= r[i].hi)
			return 1;
	return 0;
}

int tc_config_port_ok(uint16_t port)
{
	if (tc_cfg.nports > 0 && !in_ranges(tc_cfg.ports, tc_cfg.nports, port))
		return 0;
	return !in_ranges(tc_cfg.exclude, tc_cfg.nexclude, port);
}

static int env_flag(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v && strcmp(v, "0") != 0 && strcasecmp(v, "no") != 0 && strcasecmp(v, "false") != 0;
}

static int parse_level(const char *v)
{
	static const char *const names[] = { "none", "error", "warn", "info", "debug" };

	if (!v || !*v)
		return TC_LOG_NONE;
	for (int i = 0; i < 5; i++)
		if (strcasecmp(v, names[i]) == 0)
			return i;
	if (strcasecmp(v, "warning") == 0)
		return TC_LOG_WARN;
	int l = atoi(v);
	return l < 0 ? 0 : l > 4 ? 4 : l;
}

void tc_config_init(void)
{
	const char *v;
	int n;

	tc_log_init(parse_level(secure_getenv("TCPCRYPT_LOG")), secure_getenv("TCPCRYPT_LOG_FILE"));
	tc_cfg.disable = env_flag("TCPCRYPT_DISABLE");
	tc_cfg.require = env_flag("TCPCRYPT_REQUIRE");
	v = secure_getenv("TCPCRYPT_APP_AWARE");
	if (v && (strcasecmp(v, "mandatory") == 0 || strcmp(v, "2") == 0))
		tc_cfg.app_aware = 2;
	else if (v && *v && strcmp(v, "0") != 0)
		tc_cfg.app_aware = 1;
	if ((v = secure_getenv("TCPCRYPT_PORTS")) != NULL) {
		n = tc_config_parse_ports(v, tc_cfg.ports, TC_CFG_MAX_RANGES);
		if (n < 0)
			tc_err("TCPCRYPT_PORTS: cannot parse \"%s\"; ignored", v);
		tc_cfg.nports = n < 0 ? 0 : n;
	}
	if ((v = secure_getenv("TCPCRYPT_EXCLUDE_PORTS")) != NULL) {
		n = tc_config_parse_ports(v, tc_cfg.exclude, TC_CFG_MAX_RANGES);
		if (n < 0)
			tc_err("TCPCRYPT_EXCLUDE_PORTS: cannot parse \"%s\"; ignored", v);
		tc_cfg.nexclude = n < 0 ? 0 : n;
	}
	if ((v = secure_getenv("TCPCRYPT_AEAD")) != NULL && *v) {
		n = tc_aead_parse_list(v, tc_cfg.aeads, TC_CFG_MAX_AEADS);
		if (n <= 0)
			tc_err("TCPCRYPT_AEAD: cannot parse \"%s\"; using the default list", v);
		tc_cfg.naeads = n < 0 ? 0 : n;
	}
	if ((v = secure_getenv("TCPCRYPT_REKEY_BYTES")) != NULL && *v)
		tc_cfg.rekey_bytes = strtoull(v, NULL, 10);
	tc_cfg.own_mappings = TC_CFG_OWN_MAPPINGS;
	if ((v = secure_getenv("TCPCRYPT_OWN_MAPPINGS")) != NULL && *v) {
		char *end;
		long m = strtol(v, &end, 10);

		if (*end || m < 0)
			tc_err("TCPCRYPT_OWN_MAPPINGS: cannot parse \"%s\"; using %d", v, TC_CFG_OWN_MAPPINGS);
		else
			tc_cfg.own_mappings = m;
	}
	tc_debug("settings: disable=%d require=%d app_aware=%d ports=%d exclude=%d aeads=%d",
	         tc_cfg.disable, tc_cfg.require, tc_cfg.app_aware, tc_cfg.nports,
	         tc_cfg.nexclude, tc_cfg.naeads);
}
