# Resumption with Perl's Net::SSLeay (its XS module loads libssl.so.3 with
# dlopen(RTLD_LOCAL)): a forked loopback server and a client resuming with
# set_session, TLS 1.2 with session IDs (tickets off). Prints only what must be the same
# with and without ssl-session preloaded.
# Usage: perl pl_resume.pl CERT KEY
use strict;
use warnings;
use Net::SSLeay qw(die_now);
use Socket;
use IO::Socket::INET;

my ($cert, $key) = @ARGV;
my $rounds = 3;
Net::SSLeay::initialize();

my $listen = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1', LocalPort => 0, Listen => $rounds, ReuseAddr => 1,
    Proto => 'tcp') or die "listen: $!";
my $port = $listen->sockport;

my $sctx = Net::SSLeay::CTX_new() or die_now("CTX_new");
Net::SSLeay::CTX_set_options($sctx, Net::SSLeay::OP_NO_TICKET());
Net::SSLeay::CTX_set_min_proto_version($sctx, Net::SSLeay::TLS1_2_VERSION());
Net::SSLeay::CTX_set_max_proto_version($sctx, Net::SSLeay::TLS1_2_VERSION());
Net::SSLeay::CTX_set_session_id_context($sctx, "pl", 2);
Net::SSLeay::CTX_use_certificate_chain_file($sctx, $cert) or die_now("cert");
Net::SSLeay::CTX_use_PrivateKey_file($sctx, $key, Net::SSLeay::FILETYPE_PEM()) or die_now("key");

my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    alarm 30;
    for (1 .. $rounds) {
        my $c = $listen->accept or die "accept: $!";
        my $ssl = Net::SSLeay::new($sctx);
        Net::SSLeay::set_fd($ssl, fileno($c));
        Net::SSLeay::accept($ssl) == 1 or die_now("accept");
        my $got = Net::SSLeay::read($ssl);
        Net::SSLeay::write($ssl, $got);
        Net::SSLeay::shutdown($ssl);
        Net::SSLeay::free($ssl);
        close $c;
    }
    exit 0;
}
close $listen;
alarm 30;

my $cctx = Net::SSLeay::CTX_new() or die_now("CTX_new");
Net::SSLeay::CTX_set_options($cctx, Net::SSLeay::OP_NO_TICKET());
Net::SSLeay::CTX_set_max_proto_version($cctx, Net::SSLeay::TLS1_2_VERSION());
my $sess;
my $reused = 0;
for my $i (0 .. $rounds - 1) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
        or die "connect: $!";
    my $ssl = Net::SSLeay::new($cctx);
    Net::SSLeay::set_fd($ssl, fileno($s));
    Net::SSLeay::set_session($ssl, $sess) if $sess;
    Net::SSLeay::connect($ssl) == 1 or die_now("connect");
    Net::SSLeay::write($ssl, "hello");
    my $echo = Net::SSLeay::read($ssl);
    my $r = Net::SSLeay::session_reused($ssl);
    $reused += $r;
    my $cipher = Net::SSLeay::get_current_cipher($ssl);
    printf "conn %d: echo=%s cipher=%s bits=%d version=%s reused=%d\n", $i, $echo,
        Net::SSLeay::get_cipher($ssl), Net::SSLeay::get_cipher_bits($ssl),
        Net::SSLeay::CIPHER_get_version($cipher), $r;
    if (!$sess) {
        $sess = Net::SSLeay::get1_session($ssl);
        printf "  session: timeout=%d resumable=%d master_key_len=%d time_ok=%d\n",
            Net::SSLeay::SESSION_get_timeout($sess), Net::SSLeay::SESSION_is_resumable($sess),
            length(Net::SSLeay::SESSION_get_master_key($sess)),
            abs(Net::SSLeay::SESSION_get_time($sess) - time()) <= 5 ? 1 : 0;
    }
    Net::SSLeay::shutdown($ssl);
    Net::SSLeay::free($ssl);
    close $s;
}
Net::SSLeay::SESSION_free($sess);
waitpid($pid, 0);
printf "resumed %d of %d; server exit %d\n", $reused, $rounds - 1, $? >> 8;
