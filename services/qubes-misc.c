/*
 * qubes-misc - the qrexec service of the calls of family "misc"
 * (lib/api/misc.def: qubes.FeaturesRequest, qubes.NotifyTools,
 * qubes.NotifyUpdates on the misc socket): /etc/qubes-rpc/<call> links
 * here.  All the work is service_main() (lib/service.h).
 */
#include "service.h"

int
main(int argc, char **argv)
{
	return service_main(argc, argv, "misc");
}
