package loadgen

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/parley-chat/parley/internal/xmpp"
)

// benchListName is the name of the block list every load user gets.
const benchListName = "bench-blocklist"

// privacyListIQ is the SDK's privacylist.create request (REALTIME.md
// §18.2) blocking the given users one way: for each user, in ascending
// id order, a user-JID item then a muc.{domain}/{id} item, orders 2k+1
// and 2k+2, action deny, with the children message, presence-in,
// presence-out and iq. The list is 2*len(blocked) items long.
func privacyListIQ(id, name string, appID int64, domain string, blocked []int64) []byte {
	ids := slices.Sorted(slices.Values(blocked))
	list := xmpp.NewElement("list", "name", name)
	for k, u := range ids {
		for j, value := range []string{
			strconv.FormatInt(u, 10) + "-" + strconv.FormatInt(appID, 10) + "@" + domain,
			"muc." + domain + "/" + strconv.FormatInt(u, 10),
		} {
			item := list.AppendChild(xmpp.NewElement("item", "type", "jid", "value", value, "action", "deny",
				"order", strconv.Itoa(2*k+1+j)))
			for _, kind := range []string{"message", "presence-in", "presence-out", "iq"} {
				item.AppendChild(xmpp.NewElement(kind))
			}
		}
	}
	iq := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "set", "id", id)
	iq.AppendChild(xmpp.NewElement("query", "xmlns", xmpp.NSPrivacy)).AppendChild(list)
	return iq.Encode()
}

// defaultListIQ makes name the default list (§18.4).
func defaultListIQ(id, name string) []byte {
	iq := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "set", "id", id)
	iq.AppendChild(xmpp.NewElement("query", "xmlns", xmpp.NSPrivacy)).AppendChild(xmpp.NewElement("default", "name", name))
	return iq.Encode()
}

// setBlockLists gives every session's user a default block list denying
// the outsiders (users of the app that take no part in the run, so the
// list blocks no message of the run, but the server checks every stanza
// against it), the way the SDK does: create the list, then make it the
// default, each answered before the next. The server writes it through
// its privacy service, as for any client.
func setBlockLists(ctx context.Context, cfg *XMPPConfig, clients []conn, outsiders []int64, progress io.Writer) error {
	create := privacyListIQ("bl-create", benchListName, cfg.AppID, cfg.Domain, outsiders)
	def := defaultListIQ("bl-default", benchListName)
	return eachConn(ctx, cfg, clients, "blocklists", progress, func(i int, c conn) error {
		if err := c.send(create); err != nil {
			return err
		}
		if _, err := awaitIQ(c, "bl-create"); err != nil {
			return fmt.Errorf("block list of session %d: %w", i, err)
		}
		if err := c.send(def); err != nil {
			return err
		}
		if _, err := awaitIQ(c, "bl-default"); err != nil {
			return fmt.Errorf("default list of session %d: %w", i, err)
		}
		return nil
	})
}
