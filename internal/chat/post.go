package chat

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Storing a message costs a few statements; committing costs an fsync-free
// WAL append but still dominates when each message has its own
// transaction. Messages from concurrent senders are therefore group
// committed: the first waiting message opens a transaction, every message
// that arrives meanwhile joins it (up to maxBatch), and each sender gets
// its own result once the batch commits. A message is acknowledged only
// after its batch is durable.
const maxBatch = 256

// linger is how long the committer waits for one more post while fewer
// have come than the last round brought (see fill). It is short beside a
// commit (a millisecond or more), and long enough for a sender that was
// just acknowledged to get a CPU and post again.
const linger = 100 * time.Microsecond

// Post is one message to store: who sends it and what.
type Post struct {
	Caller Caller
	In     MessageInput
	// checkBlocks: apply the 1-1 block rule (blocks.go) when the dialog is
	// private; live senders' messages were checked before they came.
	checkBlocks bool
	// alerts are the recipients who get a chat alert of the message,
	// stored with it (alerts.go); alertMembers: decide them in the
	// transaction, from the dialog's occupants (a REST post with
	// send_to_chat).
	alerts       []int64
	alertMembers bool
}

type postReq struct {
	post Post
	mark *markReq   // a receipt to record instead of a post
	chg  *changeReq // an edit or delete to apply instead of a post
	// alert: the chat alerts of a message that is not stored (alerts.go)
	alert *alertReq
	msg   *Message
	d     *Dialog // the dialog's posting head (see PostingHeads), last message moved
	err   error
	done  chan struct{}
}

// markReq is a chat marker to record (Receipt): the caller's delivered or
// read receipt for one message of a dialog.
type markReq struct {
	c         Caller
	to        int64 // the user the marker is addressed to; 0: not routed
	dialogID  string
	messageID string
	read      bool
	// route is recordMarks' verdict: the marker is one to pass on to its
	// addressee (REALTIME.md §8.2); false drops it silently.
	route bool
}

// committer batches posts (and receipts) into shared transactions.
type committer struct {
	s    *Service
	reqs chan *postReq
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
	// expect is how many posts the next batch should gather before it
	// closes without waiting: the size of the last round of senders. It
	// decays, so senders who left stop being waited for.
	expect int
	timer  *time.Timer
	// observe is told about each batch (observe.go); never nil.
	observe CommitObserver
	// busy is the time spent in batch transactions so far (CommitTime).
	busy atomic.Int64
}

func newCommitter(s *Service) *committer {
	c := &committer{s: s, reqs: make(chan *postReq, maxBatch*4), stop: make(chan struct{}), observe: noCommitObserver{}}
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	c.wg.Add(1)
	go c.loop()
	return c
}

func (c *committer) loop() {
	defer c.wg.Done()
	for {
		var first *postReq
		select {
		case first = <-c.reqs:
		case <-c.stop:
			// Drain what is queued so no accepted post is left waiting.
			for {
				select {
				case r := <-c.reqs:
					c.run([]*postReq{r})
				default:
					return
				}
			}
		}
		c.run(c.fill(first))
	}
}

// fill gathers the posts waiting behind first into a batch. Taking only
// what is queued at that instant splits steady senders in two: the
// senders the last batch acknowledged are runnable but have mostly not
// posted again yet, so one batch gets the few that have and the next the
// rest (measured with 64 senders: 16 posts per batch on average, most
// batches under 8, instead of 59 now). So while the batch holds fewer
// posts than the last round, fill waits for the next one, for at most
// linger each; a lone sender, whose round is one post, never waits.
func (c *committer) fill(first *postReq) []*postReq {
	batch := []*postReq{first}
	for len(batch) < maxBatch {
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
			continue
		default:
		}
		if len(batch) >= c.expect {
			break
		}
		c.timer.Reset(linger)
		select {
		case r := <-c.reqs:
			batch = append(batch, r)
			c.timer.Stop()
		case <-c.timer.C:
			return batch
		}
	}
	return batch
}

// run stores a batch in one transaction. A post refused by a rule fails
// alone; a store failure fails the whole batch (nothing of it is kept).
func (c *committer) run(batch []*postReq) {
	var posts []Post
	var marks []*markReq
	var changes []*changeReq
	var alerts []*alertReq
	at := make([]int, len(batch)) // batch[i] is posts[at[i]] (or a mark, change or alert)
	for i, r := range batch {
		if r.alert != nil {
			alerts = append(alerts, r.alert)
			continue
		}
		if r.mark != nil {
			marks = append(marks, r.mark)
			continue
		}
		if r.chg != nil {
			changes = append(changes, r.chg)
			continue
		}
		at[i] = len(posts)
		posts = append(posts, r.post)
	}
	began := time.Now()
	msgs, dialogs, errs, err := c.s.storeBatch(context.Background(), posts, marks, changes, alerts)
	// Told before the senders are answered, so that what a sender saw
	// acknowledged is already counted.
	took := time.Since(began)
	c.busy.Add(int64(took))
	c.observe.Committed(len(batch), storedCount(msgs, errs, err), took)
	// The next round: this batch's senders and those who queued meanwhile.
	c.expect = max(len(batch)+len(c.reqs), c.expect*3/4)
	for i, r := range batch {
		switch {
		case err != nil:
			r.err = err
		case r.mark == nil && r.chg == nil && r.alert == nil:
			r.msg, r.d, r.err = msgs[at[i]], dialogs[at[i]], errs[at[i]]
		}
		close(r.done)
	}
	// Let the senders just woken on this CPU post again before the next
	// batch opens, rather than waking the committer one post at a time
	// (59 posts per batch against 54 without, with 64 senders).
	runtime.Gosched()
}

// storedCount is how many of a batch's posts were stored: accepted, and not a
// retransmission of a stored message.
func storedCount(msgs []*Message, errs []error, err error) int {
	if err != nil {
		return 0
	}
	n := 0
	for i := range msgs {
		if msgs[i] != nil && errs[i] == nil {
			n++
		}
	}
	return n
}

func (c *committer) close() {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
}

// errClosed is returned for posts after Close.
var errClosed = errors.New("chat: service closed")

// submit hands a post to the committer and waits for its batch.
func (c *committer) submit(ctx context.Context, p Post) (*Message, *Dialog, error) {
	r, err := c.start(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	// Once queued the post will be stored; wait for the outcome even if ctx
	// ends, so the caller never reports failure for a stored message.
	<-r.done
	return r.msg, r.d, r.err
}

// start queues a post; its done channel closes when its batch committed
// (or failed). Posts are stored in the order they were queued.
func (c *committer) start(ctx context.Context, p Post) (*postReq, error) {
	return c.queue(ctx, &postReq{post: p, done: make(chan struct{})})
}

func (c *committer) queue(ctx context.Context, r *postReq) (*postReq, error) {
	select {
	case c.reqs <- r:
		return r, nil
	case <-c.stop:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// PostBatch stores several messages in one transaction, returning each
// message or the rule that refused it. A post that retransmits a stored
// message (its id, sender and dialog, REALTIME.md §6.2) gets the stored
// message with ErrDuplicate, and nothing is stored for it. It is the bulk
// path (seeding, imports); live senders go through CreateMessage, which
// batches for them.
func (s *Service) PostBatch(ctx context.Context, posts []Post) ([]*Message, []error, error) {
	for i := range posts {
		if err := checkMessage(&posts[i].In); err != nil {
			errs := make([]error, len(posts))
			errs[i] = err
			return nil, errs, nil
		}
	}
	msgs, _, errs, err := s.storeBatch(ctx, posts, nil, nil, nil)
	return msgs, errs, err
}

// storeBatch checks and stores each post inside one transaction. Posting
// changes neither a dialog's roles nor anyone's membership, so the checks
// of the whole batch come first, on the dialogs and memberships read in
// one pass (PostingHeads) rather than with a query or two per message; the
// accepted messages are then inserted in order, and their bookkeeping
// written once per dialog and sender (see tally) rather than once per
// message.
//
// Receipts (marks) ride in the same transaction, after the posts: a
// receipt is a few statements, and each in a transaction of its own made
// every delivered message cost a second commit. Real-time edits and
// deletes (changes) come last, for the same reason: a change that a rule
// refuses writes nothing, so it fails alone, as a refused post does.
//
// Chat alerts (alerts.go) are written in the same transaction as the
// messages that cause them: a stored message's in its own row, the
// alerts of messages that are not stored as outbox rows.
func (s *Service) storeBatch(ctx context.Context, posts []Post, marks []*markReq, changes []*changeReq, alerts []*alertReq) ([]*Message, []*Dialog, []error, error) {
	msgs := make([]*Message, len(posts))
	dialogs := make([]*Dialog, len(posts))
	errs := make([]error, len(posts))
	err := s.store.Tx(ctx, func(tx Tx) error {
		if len(posts) > 0 {
			if err := s.insertPosts(ctx, tx, posts, msgs, dialogs, errs); err != nil {
				return err
			}
		}
		if err := s.writeAlerts(ctx, tx, alerts); err != nil {
			return err
		}
		if len(marks) > 0 {
			if err := s.recordMarks(ctx, tx, marks); err != nil {
				return err
			}
		}
		for _, ch := range changes {
			if err := s.applyChange(ctx, tx, ch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return msgs, dialogs, errs, nil
}

// insertPosts is storeBatch's part for the posts: each one's message (or
// the rule that refused it) and its dialog's posting head go in msgs,
// dialogs and errs at its index.
func (s *Service) insertPosts(ctx context.Context, tx Tx, posts []Post, msgs []*Message, dialogs []*Dialog, errs []error) error {
	keys := make([]MemberKey, len(posts))
	for i, p := range posts {
		keys[i] = MemberKey{DialogID: p.In.DialogID, UserID: p.Caller.UserID}
	}
	heads, members, err := tx.PostingHeads(ctx, keys)
	if err != nil {
		return err
	}
	withAdmins := map[string]bool{}
	var accepted []*Message
	var at []int      // accepted[k] is posts[at[k]]
	var chosen []bool // accepted[k]'s id is its client's
	for i, p := range posts {
		d := heads[p.In.DialogID]
		if d == nil || d.AppID != p.Caller.AppID {
			errs[i] = errNoDialog()
			continue
		}
		if d.Type == Broadcast && !withAdmins[d.ID] { // posting needs the admins
			if d, err = tx.Dialog(ctx, p.Caller.AppID, d.ID); err != nil {
				return err
			}
			heads[d.ID], withAdmins[d.ID] = d, true
		}
		ro := role{d: d, user: p.Caller.UserID}
		if members[keys[i]] {
			ro.m = &Member{DialogID: d.ID, UserID: p.Caller.UserID, IsMember: true}
		}
		if !ro.canPost() {
			// Refused: whether to say 403 or 404 depends on roles (a
			// public dialog's admins see it), which the head lacks.
			full, err := tx.Dialog(ctx, p.Caller.AppID, d.ID)
			if err != nil {
				return err
			}
			ro.d = full
			if !ro.visible() {
				errs[i] = errNoDialog()
			} else {
				errs[i] = errForbidden()
			}
			continue
		}
		if p.checkBlocks && d.Type == Private {
			if other := otherOfPair(d.Pair, p.Caller.UserID); other != 0 {
				if err := s.directBlock(ctx, p.Caller.AppID, p.Caller.UserID, other); err != nil {
					errs[i] = err
					continue
				}
			}
		}
		msg, own := s.newMessage(d, p.Caller.UserID, p.In)
		// A stored message's alerts are stored with it (alerts.go).
		msg.Alert = p.alerts
		if p.alertMembers {
			if msg.Alert, err = s.memberAlertees(ctx, tx, p, msg); err != nil {
				return err
			}
		}
		accepted = append(accepted, msg)
		at = append(at, i)
		chosen = append(chosen, own)
	}
	if err := s.unmuted(ctx, tx, accepted); err != nil {
		return err
	}
	stored, err := s.insertMessages(ctx, tx, accepted, chosen)
	if err != nil {
		return err
	}
	var t tally
	for k, msg := range accepted {
		i := at[k]
		d := heads[msg.DialogID]
		switch o := stored[k]; {
		case o.err != nil:
			errs[i] = o.err
		case o.holder != nil: // a retransmission: not stored, not counted
			msgs[i], dialogs[i], errs[i] = o.holder, d, ErrDuplicate
		default:
			t.add(d, msg)
			msgs[i], dialogs[i] = msg, d
		}
	}
	return t.apply(ctx, tx)
}

// maxIDClashes is how many ids in a row may turn out taken for one message
// before it fails (alone). Server-made ids are drawn from four billion
// values past the last one, so even one clash needs a client that claimed
// that very id; this only bounds the loop.
const maxIDClashes = 8

// inserted is what became of one message of insertMessages: stored (both
// nil), a retransmission of holder, or failed.
type inserted struct {
	holder *Message
	err    error
}

// insertMessages stores msgs in order, deciding about every id the store
// finds taken (REALTIME.md §6.2): a client's id already stored from the
// same sender in the same dialog makes the message a retransmission,
// stored once; any other clash (another dialog's or another sender's
// message, or a server-made id) gets a fresh server-made id, and the
// message is stored under it. Ids are unique store-wide while a
// retransmission is scoped to its dialog and sender, so a clash is never
// taken for "already stored": that let one tenant, by claiming ids
// another would use, have that tenant's messages acknowledged and never
// stored.
//
// The decision is taken inside the batch's transaction, where no other
// writer can move the holder: the store stops at a clash and reports the
// holder, and insertion resumes after the decided message, so seqs still
// follow the batch. A batch without clashes is one pass and reads nothing.
func (s *Service) insertMessages(ctx context.Context, tx Tx, msgs []*Message, chosen []bool) ([]inserted, error) {
	out := make([]inserted, len(msgs))
	clashAt, clashes := -1, 0 // the ids msgs[clashAt] found taken
	for from := 0; from < len(msgs); {
		n, holder, err := tx.InsertMessages(ctx, msgs[from:])
		if err != nil {
			return nil, err
		}
		k := from + n
		if k == len(msgs) {
			break
		}
		if k != clashAt {
			clashAt, clashes = k, 0
		}
		m := msgs[k]
		switch {
		case chosen[k] && holder.DialogID == m.DialogID && holder.SenderID == m.SenderID:
			out[k].holder = holder
			from = k + 1
		case clashes >= maxIDClashes:
			out[k].err = fmt.Errorf("chat: %d message ids in a row were taken", clashes+1)
			from = k + 1
		default:
			m.ID, chosen[k] = s.newMessageID(m.CreatedAt), false
			clashes++
			from = k
		}
	}
	return out, nil
}

// CommitTime is the time the group committer has spent in transactions
// since the service started. Its growth over a stretch of wall time is how
// busy the chat's store path is: background work that shares the machine
// (the push dispatcher) yields while it is high.
func (s *Service) CommitTime() time.Duration { return time.Duration(s.commit.busy.Load()) }
