/*
 * test_settings.c - unit test of the shim's settings: port lists, and
 * TCPCRYPT_AEAD in any order of the three AEADs.
 * Exit 0 when every check passes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "settings.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

int main(void)
{
	struct tc_port_range r[4];

	CHECK(tc_config_parse_ports("80,443,8000-8100", r, 4) == 3);
	CHECK(r[0].lo == 80 && r[0].hi == 80);
	CHECK(r[2].lo == 8000 && r[2].hi == 8100);
	CHECK(tc_config_parse_ports("", r, 4) == 0);
	CHECK(tc_config_parse_ports(" 1 , 2 ", r, 4) == 2);
	CHECK(tc_config_parse_ports("1,2,3,4,5", r, 4) == -EINVAL);
	CHECK(tc_config_parse_ports("70000", r, 4) == -EINVAL);
	CHECK(tc_config_parse_ports("90-80", r, 4) == -EINVAL);
	CHECK(tc_config_parse_ports("80x", r, 4) == -EINVAL);
	CHECK(tc_config_parse_ports("-5", r, 4) == -EINVAL);

	/* include and exclude lists */
	CHECK(tc_config_port_ok(1234));
	tc_cfg.nports = tc_config_parse_ports("80,8000-8100", tc_cfg.ports, TC_CFG_MAX_RANGES);
	tc_cfg.nexclude = tc_config_parse_ports("8080", tc_cfg.exclude, TC_CFG_MAX_RANGES);
	CHECK(tc_config_port_ok(80));
	CHECK(tc_config_port_ok(8000));
	CHECK(!tc_config_port_ok(8080));
	CHECK(!tc_config_port_ok(443));
	tc_cfg.nports = 0;
	CHECK(tc_config_port_ok(443));
	CHECK(!tc_config_port_ok(8080));

	/* TCPCRYPT_AEAD: any order of the three, names or ids */
	setenv("TCPCRYPT_AEAD", "chacha20poly1305,aes128gcm,aes256gcm", 1);
	tc_config_init();
	CHECK(tc_cfg.naeads == 3);
	CHECK(tc_cfg.aeads[0] == 0x0010 && tc_cfg.aeads[1] == 0x0001 && tc_cfg.aeads[2] == 0x0002);
	setenv("TCPCRYPT_AEAD", "aes-256-gcm, 0x0001", 1);
	tc_config_init();
	CHECK(tc_cfg.naeads == 2);
	CHECK(tc_cfg.aeads[0] == 0x0002 && tc_cfg.aeads[1] == 0x0001);
	setenv("TCPCRYPT_AEAD", "aes128gcm", 1);
	tc_config_init();
	CHECK(tc_cfg.naeads == 1 && tc_cfg.aeads[0] == 0x0001);

	if (failures)
		return 1;
	printf("PASS: settings\n");
	return 0;
}
