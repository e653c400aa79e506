#ifndef DASPROV_CLIBXML2_SHIM_H
#define DASPROV_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
/* libxml2's encoding.h includes the system ICU headers, whose enums clash with the ICU copy
   bundled in Foundation (_FoundationICU) as soon as one Swift module sees both. The only
   ICU-dependent declarations are two trailing pointer fields of xmlCharEncodingHandler, which
   dasprov never reads, allocates or embeds, so leave ICU out of the Swift view. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/SAX2.h>
#endif
