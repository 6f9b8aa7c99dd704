/*
 * tcpcrypt-decrypt - writes a copy of a capture in which each tcpcrypt
 * connection that the key log opens carries its plaintext instead of
 * Init messages and frames, with sequence numbers made consistent, so that
 * any Wireshark, tshark or tcpdump dissects the application protocol.
 *
 * Pass 1 reassembles every TCP stream; then each tcpcrypt connection is
 * matched to a key-log secret and its frames are opened (libtcpcrypt's
 * key schedule and frame open); pass 2 writes every packet, rewritten or
 * as it was.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tcd_conn.h"
#include "tcd_keylog.h"
#include "tcd_pkt.h"
#include "tcd_report.h"
#include "tcd_write.h"

/* Exit statuses (tcpcrypt-decrypt(1)). */
#define EX_DONE    0   /* written; every tcpcrypt connection decrypted */
#define EX_ERROR   1   /* nothing written: bad arguments, unreadable files */
#define EX_PARTIAL 2   /* written, but some tcpcrypt connection could not be decrypted */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tcpcrypt-decrypt [OPTIONS] CAPTURE KEYLOG OUT.pcap\n"
		"Writes CAPTURE to OUT.pcap with the payload of each tcpcrypt connection\n"
		"replaced by its plaintext, using the secrets of KEYLOG (TCPCRYPT_KEYLOGFILE).\n"
		"\n"
		"  -q, --quiet      print nothing but errors\n"
		"  -v, --verbose    also list connections that are not tcpcrypt\n"
		"  -h, --help       this help\n"
		"  -V, --version    print the version\n");
}

/* Per-packet result of pass 1: its connection (index) and direction. */
struct pkt_ref {
	int32_t conn;   /* -1: not a TCP segment we follow */
	int8_t dir;
};

struct state {
	struct tcd_table t;
	struct pkt_ref *refs;
	size_t nrefs;
	pcap_dumper_t *dump;
	struct pcap_pkthdr hdr;   /* header of the packet being written */
};

static int index_of(const struct tcd_table *t, const struct tcd_conn *c)
{
	size_t i = t->n;

	/* the connection is almost always one of the newest */
	while (i-- > 0)
		if (t->all[i] == c)
			return (int)i;
	return -1;
}

/* Pass 1: streams of every connection. */
static int pass1(pcap_t *pc, struct state *st)
{
	struct pcap_pkthdr *h;
	const uint8_t *p;
	struct tcd_pkt pk;
	struct tcd_conn *c;
	struct pkt_ref ref, *nr;
	int r, dir, dlt = pcap_datalink(pc);

	while ((r = pcap_next_ex(pc, &h, &p)) == 1) {
		ref.conn = -1;
		ref.dir = 0;
		if (tcd_pkt_parse(dlt, p, h->caplen, &pk) == 0) {
			c = tcd_conn_get(&st->t, &pk, &dir);
			if (c == NULL || tcd_conn_add(c, dir, &pk, p + pk.pay_off) < 0)
				return -ENOMEM;
			ref.conn = index_of(&st->t, c);
			ref.dir = (int8_t)dir;
		}
		if ((st->nrefs & 4095) == 0) {
			nr = realloc(st->refs, (st->nrefs + 4096) * sizeof *nr);
			if (nr == NULL)
				return -ENOMEM;
			st->refs = nr;
		}
		st->refs[st->nrefs++] = ref;
	}
	if (r == PCAP_ERROR) {
		fprintf(stderr, "tcpcrypt-decrypt: %s\n", pcap_geterr(pc));
		return -EIO;
	}
	return 0;
}

static int emit(void *arg, const uint8_t *pkt, size_t len)
{
	struct state *st = arg;
	struct pcap_pkthdr h = st->hdr;

	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)st->dump, &h, pkt);
	return 0;
}

/* Pass 2: every packet, rewritten when its connection was decrypted. */
static int pass2(pcap_t *pc, struct state *st)
{
	struct pcap_pkthdr *h;
	const uint8_t *p;
	struct tcd_pkt pk;
	const struct tcd_conn *c;
	size_t i = 0;
	int r, dlt = pcap_datalink(pc);

	while ((r = pcap_next_ex(pc, &h, &p)) == 1) {
		struct pkt_ref ref = i < st->nrefs ? st->refs[i] : (struct pkt_ref){ -1, 0 };

		i++;
		c = ref.conn >= 0 ? st->t.all[ref.conn] : NULL;
		if (c == NULL || c->state != TCD_C_DECRYPTED || tcd_pkt_parse(dlt, p, h->caplen, &pk) < 0) {
			pcap_dump((u_char *)st->dump, h, p);
			continue;
		}
		st->hdr = *h;
		r = tcd_write_segment(c, ref.dir, p, &pk, emit, st);
		if (r < 0)
			return r;
	}
	return r == PCAP_ERROR ? -EIO : 0;
}

static pcap_t *open_capture(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);

	if (pc == NULL)
		fprintf(stderr, "tcpcrypt-decrypt: %s\n", err);
	return pc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct state st;
	struct tcd_keylog kl;
	pcap_t *pc, *dead;
	size_t i, found = 0, done = 0;
	int c, r, quiet = 0, verbose = 0;

	while ((c = getopt_long(argc, argv, "qvhV", lo, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return EX_DONE;
		case 'V': printf("tcpcrypt-decrypt %s\n", PACKAGE_VERSION); return EX_DONE;
		default: usage(stderr); return EX_ERROR;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return EX_ERROR;
	}
	if (sodium_init() < 0)
		return EX_ERROR;
	r = tcd_keylog_read(&kl, argv[optind + 1]);
	if (r < 0) {
		fprintf(stderr, "tcpcrypt-decrypt: %s: %s\n", argv[optind + 1], strerror(-r));
		return EX_ERROR;
	}
	if (kl.bad > 0 && !quiet)
		fprintf(stderr, "tcpcrypt-decrypt: %s: %zu lines not understood\n",
		        argv[optind + 1], kl.bad);
	pc = open_capture(argv[optind]);
	if (pc == NULL)
		return EX_ERROR;
	if (!tcd_pkt_dlt_ok(pcap_datalink(pc)) && !quiet)
		fprintf(stderr, "tcpcrypt-decrypt: link type %s not supported: copying as it is\n",
		        pcap_datalink_val_to_name(pcap_datalink(pc)));
	memset(&st, 0, sizeof st);
	r = pass1(pc, &st);
	pcap_close(pc);
	for (i = 0; r == 0 && i < st.t.n; i++) {
		r = tcd_conn_decrypt(st.t.all[i], &kl);
		if (st.t.all[i]->state != TCD_C_PLAIN)
			found++;
		if (st.t.all[i]->state == TCD_C_DECRYPTED)
			done++;
		if (r == 0 && !quiet)
			tcd_report(stderr, st.t.all[i], verbose);
	}
	tcd_keylog_free(&kl);
	if (r == 0) {
		pc = open_capture(argv[optind]);
		r = pc == NULL ? -EIO : 0;
	}
	if (r == 0) {
		dead = pcap_open_dead(pcap_datalink(pc), 262144);
		st.dump = dead ? pcap_dump_open(dead, argv[optind + 2]) : NULL;
		if (st.dump == NULL) {
			fprintf(stderr, "tcpcrypt-decrypt: %s: %s\n", argv[optind + 2],
			        dead ? pcap_geterr(dead) : "out of memory");
			r = -EIO;
		} else {
			r = pass2(pc, &st);
			if (pcap_dump_flush(st.dump) != 0)
				r = -EIO;
			pcap_dump_close(st.dump);
		}
		if (dead)
			pcap_close(dead);
		pcap_close(pc);
	}
	tcd_table_free(&st.t);
	free(st.refs);
	if (r < 0) {
		if (r != -EIO)
			fprintf(stderr, "tcpcrypt-decrypt: %s\n", strerror(-r));
		return EX_ERROR;
	}
	if (!quiet)
		fprintf(stderr, "tcpcrypt-decrypt: %zu of %zu tcpcrypt connections decrypted into %s\n",
		        done, found, argv[optind + 2]);
	return done == found ? EX_DONE : EX_PARTIAL;
}
