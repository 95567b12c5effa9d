package chat

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// Storing a message costs a few statements; committing costs an fsync-free
// WAL append but still dominates when each message has its own
// transaction. Messages from concurrent senders are therefore group
// committed: the first waiting message opens a transaction, every message
// that arrives meanwhile joins it (up to maxBatch), and each sender gets
// its own result once the batch commits. A message is acknowledged only
// after its batch is durable.
const maxBatch = 256

// Post is one message to store: who sends it and what.
type Post struct {
	Caller Caller
	In     MessageInput
}

type postReq struct {
	post Post
	msg  *Message
	d    *Dialog
	err  error
	done chan struct{}
}

// committer batches posts into shared transactions.
type committer struct {
	s    *Service
	reqs chan *postReq
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func newCommitter(s *Service) *committer {
	c := &committer{s: s, reqs: make(chan *postReq, maxBatch*4), stop: make(chan struct{})}
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
		batch := []*postReq{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.run(batch)
	}
}

// run stores a batch in one transaction. A post refused by a rule fails
// alone; a store failure fails the whole batch (nothing of it is kept).
func (c *committer) run(batch []*postReq) {
	posts := make([]Post, len(batch))
	for i, r := range batch {
		posts[i] = r.post
	}
	msgs, dialogs, errs, err := c.s.storeBatch(context.Background(), posts)
	for i, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.msg, r.d, r.err = msgs[i], dialogs[i], errs[i]
		}
		close(r.done)
	}
}

func (c *committer) close() {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
}

// errClosed is returned for posts after Close.
var errClosed = errors.New("chat: service closed")

// submit hands a post to the committer and waits for its batch.
func (c *committer) submit(ctx context.Context, p Post) (*Message, *Dialog, error) {
	r := &postReq{post: p, done: make(chan struct{})}
	select {
	case c.reqs <- r:
	case <-c.stop:
		return nil, nil, errClosed
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	// Once queued the post will be stored; wait for the outcome even if ctx
	// ends, so the caller never reports failure for a stored message.
	<-r.done
	return r.msg, r.d, r.err
}

// PostBatch stores several messages in one transaction, returning each
// message or the rule that refused it. It is the bulk path (seeding,
// imports); live senders go through CreateMessage, which batches for them.
func (s *Service) PostBatch(ctx context.Context, posts []Post) ([]*Message, []error, error) {
	for i := range posts {
		if err := checkMessage(&posts[i].In); err != nil {
			errs := make([]error, len(posts))
			errs[i] = err
			return nil, errs, nil
		}
	}
	msgs, _, errs, err := s.storeBatch(ctx, posts)
	return msgs, errs, err
}

// storeBatch checks and stores each post inside one transaction. Dialogs
// are loaded once per batch and kept current in memory as messages land.
func (s *Service) storeBatch(ctx context.Context, posts []Post) ([]*Message, []*Dialog, []error, error) {
	msgs := make([]*Message, len(posts))
	dialogs := make([]*Dialog, len(posts))
	errs := make([]error, len(posts))
	err := s.store.Tx(ctx, func(tx Tx) error {
		loaded := map[string]*Dialog{}
		var touched []*Dialog
		for i, p := range posts {
			d, ok := loaded[p.In.DialogID]
			var m *Member
			var err error
			switch {
			case !ok:
				d, m, err = tx.DialogHead(ctx, p.Caller.AppID, p.In.DialogID, p.Caller.UserID)
				if errors.Is(err, ErrNotFound) {
					errs[i] = errNoDialog()
					continue
				}
				if err != nil {
					return err
				}
				if d.Type == Broadcast { // posting needs the admins
					if d, err = tx.Dialog(ctx, p.Caller.AppID, p.In.DialogID); err != nil {
						return err
					}
				}
				loaded[p.In.DialogID] = d
			case d.Type != Broadcast:
				m, err = tx.Member(ctx, d.ID, p.Caller.UserID)
				if err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
			}
			ro := role{d: d, m: m, user: p.Caller.UserID}
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
			msg, err := s.appendMessage(ctx, tx, d, p.Caller.UserID, p.In)
			if errors.Is(err, ErrDuplicate) {
				errs[i] = ErrDuplicate
				continue
			}
			if err != nil {
				return err
			}
			if !slices.Contains(touched, d) {
				touched = append(touched, d)
			}
			msgs[i], dialogs[i] = msg, d
		}
		for _, d := range touched {
			if err := tx.SetLast(ctx, d.ID, d.Last, d.LastSeq, d.UpdatedAt); err != nil {
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
