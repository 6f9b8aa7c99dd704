/*
 * eno_synflood - sends spoofed TCP SYNs carrying a valid ENO option, for
 * the integration tests (eno_flood.sh): the SYN flood that fills B's
 * per-tuple ENO state (map tc_syn) and evicts older entries.
 *
 *   eno_synflood DST_IP DST_PORT SRC_BASE FIRST COUNT
 *
 * Sends COUNT SYNs from raw socket (IP_HDRINCL), numbered FIRST ..
 * FIRST+COUNT-1; SYN number i comes from address SRC_BASE + (i % 4096)
 * (so SRC_BASE should start a /20) and port 1024 + i / 4096, so every
 * tuple is distinct for i < 4096 * 64511. Each SYN carries MSS and the
 * ENO option 45 03 23 (TEP 0x23, as the shim's clients send). Prints the
 * number sent. Root only; the caller keeps the traffic inside its own
 * network namespaces.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

/* Internet checksum of a buffer, folded into sum (not complemented). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Builds SYN number i into pkt (48 bytes: IP 20, TCP 20, options 8). */
static void build(uint8_t *pkt, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		  uint32_t seq)
{
	static const uint8_t opts[8] = { 2, 4, 0x05, 0xb4,   /* MSS 1460 */
					 69, 3, 0x23, 1 };   /* ENO 45 03 23, NOP */
	uint8_t *ip = pkt, *tcp = pkt + 20, pseudo[12];
	uint32_t sum;

	memset(pkt, 0, 48);
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = 48;
	ip[6] = 0x40;                 /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	/* the kernel fills in the IP checksum and id (IP_HDRINCL) */
	tcp[0] = sport >> 8;
	tcp[1] = sport & 0xff;
	tcp[2] = dport >> 8;
	tcp[3] = dport & 0xff;
	tcp[4] = seq >> 24;
	tcp[5] = seq >> 16;
	tcp[6] = seq >> 8;
	tcp[7] = seq;
	tcp[12] = (28 / 4) << 4;
	tcp[13] = 0x02;               /* SYN */
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	memcpy(tcp + 20, opts, sizeof(opts));
	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = 28;
	sum = csum_add(0, pseudo, sizeof(pseudo));
	sum = csum_add(sum, tcp, 28);
	sum = csum_fold(sum);
	tcp[16] = sum >> 8;
	tcp[17] = sum & 0xff;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct in_addr dst, base;
	uint8_t pkt[48];
	unsigned long first, count, i, sent = 0;
	int fd, one = 1, dport;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &dst) != 1 ||
	    inet_pton(AF_INET, argv[3], &base) != 1) {
		fprintf(stderr, "usage: eno_synflood DST_IP DST_PORT SRC_BASE FIRST COUNT\n");
		return 2;
	}
	dport = atoi(argv[2]);
	first = strtoul(argv[4], NULL, 0);
	count = strtoul(argv[5], NULL, 0);
	if (dport <= 0 || dport > 65535 || (first + count) / 4096 > 64511) {
		fprintf(stderr, "eno_synflood: bad port or count\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		perror("eno_synflood: raw socket");
		return 2;
	}
	to.sin_addr = dst;
	for (i = first; i < first + count; i++) {
		uint32_t src = htonl(ntohl(base.s_addr) + (uint32_t)(i % 4096));

		build(pkt, src, dst.s_addr, (uint16_t)(1024 + i / 4096), (uint16_t)dport,
		      (uint32_t)(i * 2654435761u));
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(1000);
				i--;
				continue;
			}
			perror("eno_synflood: sendto");
			break;
		}
		sent++;
	}
	close(fd);
	printf("%lu\n", sent);
	return sent == count ? 0 : 1;
}
