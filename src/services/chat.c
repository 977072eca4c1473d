/* chat: every line a client sends goes to every other client of the same
 * server, prefixed by the sender's 4-tuple, like ncat --broker. Clients may
 * live on different threads (hybrid, thread), so a line is never written
 * to another connection directly: it is queued in the reader's inbox under
 * the room's lock and the reader's eventfd, watched on the reader's own
 * thread (sk_conn_watch), wakes it to move the inbox into its output. */
#include <sockit/service.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* A longer line is cut into pieces of this size, each sent as a line. */
#define MAX_LINE 4096
/* What may wait in one reader's inbox. A reader that falls further behind
 * loses lines (never the server's memory) and is told how many. */
#define INBOX_BYTES (64 * 1024)

typedef struct chat_msg {
    struct chat_msg *next;
    size_t len;
    char text[];
} chat_msg;

typedef struct chat_room chat_room;

typedef struct chat_member {
    chat_room *room;
    struct chat_member *prev, *next; /* in the room, under room->mu */
    int efd;                         /* eventfd: the inbox has lines */
    char prefix[128];                /* "[peer -> local] " */
    /* Guarded by room->mu: written by senders on any thread. */
    chat_msg *head, *tail;
    size_t queued;
    uint64_t dropped;
    bool signalled;
} chat_member;

/* One room per server: the connections of one sk_server, on any thread. */
struct chat_room {
    chat_room *next; /* in rooms, under rooms_mu */
    const sk_server *srv;
    int refs; /* members, under rooms_mu */
    pthread_mutex_t mu;
    chat_member *members;
};

static pthread_mutex_t rooms_mu = PTHREAD_MUTEX_INITIALIZER;
static chat_room *rooms;

static chat_room *room_join(const sk_server *srv)
{
    chat_room *r;
    pthread_mutex_lock(&rooms_mu);
    for (r = rooms; r && r->srv != srv; r = r->next)
        ;
    if (r == NULL && (r = calloc(1, sizeof *r)) != NULL) {
        r->srv = srv;
        pthread_mutex_init(&r->mu, NULL);
        r->next = rooms;
        rooms = r;
    }
    if (r)
        r->refs++;
    pthread_mutex_unlock(&rooms_mu);
    return r;
}

static void room_leave(chat_room *r)
{
    pthread_mutex_lock(&rooms_mu);
    if (--r->refs == 0) {
        for (chat_room **pp = &rooms; *pp; pp = &(*pp)->next) {
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        }
        pthread_mutex_destroy(&r->mu);
        free(r);
    }
    pthread_mutex_unlock(&rooms_mu);
}

/* Under room->mu: append to m's inbox, or count a drop when it is full. */
static void enqueue(chat_member *m, const char *text, size_t len)
{
    char note[96];
    size_t nlen = 0;

    if (m->queued + len > INBOX_BYTES) {
        m->dropped++;
        return;
    }
    if (m->dropped > 0)
        nlen = (size_t)snprintf(note, sizeof note, "[sockit] %llu lines dropped: reading too slowly\n",
                                (unsigned long long)m->dropped);
    chat_msg *msg = malloc(sizeof *msg + nlen + len);
    if (msg == NULL) {
        m->dropped++;
        return;
    }
    memcpy(msg->text, note, nlen);
    memcpy(msg->text + nlen, text, len);
    msg->len = nlen + len;
    msg->next = NULL;
    if (m->tail)
        m->tail->next = msg;
    else
        m->head = msg;
    m->tail = msg;
    m->queued += msg->len;
    m->dropped = 0;
    if (!m->signalled) {
        uint64_t one = 1;
        ssize_t rc = write(m->efd, &one, sizeof one);
        (void)rc; /* only fails when the counter is already huge: still readable */
        m->signalled = true;
    }
}

/* Move what fits of the inbox into the connection's output. */
static void deliver(sk_conn *c)
{
    chat_member *m = sk_conn_state(c);
    chat_room *r = m->room;

    pthread_mutex_lock(&r->mu);
    while (m->head && sk_conn_room(c) >= m->head->len) {
        chat_msg *msg = m->head;
        if (sk_conn_write(c, msg->text, msg->len) < 0)
            break;
        m->head = msg->next;
        if (m->head == NULL)
            m->tail = NULL;
        m->queued -= msg->len;
        free(msg);
    }
    pthread_mutex_unlock(&r->mu);
}

static void broadcast(chat_member *from, const char *line, size_t len)
{
    char msg[sizeof from->prefix + MAX_LINE + 1];
    size_t plen = strlen(from->prefix);

    memcpy(msg, from->prefix, plen);
    memcpy(msg + plen, line, len);
    msg[plen + len] = '\n';
    pthread_mutex_lock(&from->room->mu);
    for (chat_member *m = from->room->members; m; m = m->next) {
        if (m != from)
            enqueue(m, msg, plen + len + 1);
    }
    pthread_mutex_unlock(&from->room->mu);
}

static int chat_open(sk_conn *c)
{
    chat_member *m = sk_conn_state(c);
    char tuple[sizeof m->prefix - 3];

    m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->efd < 0)
        return -errno;
    m->room = room_join(sk_conn_server(c));
    if (m->room == NULL) {
        close(m->efd);
        m->efd = -1;
        return -ENOMEM;
    }
    snprintf(m->prefix, sizeof m->prefix, "[%s] ", sk_tuple_format(sk_conn_tuple(c), tuple, sizeof tuple));
    int rc = sk_conn_watch(c, m->efd, SK_READ);
    pthread_mutex_lock(&m->room->mu);
    m->next = m->room->members;
    if (m->next)
        m->next->prev = m;
    m->room->members = m;
    pthread_mutex_unlock(&m->room->mu);
    return rc; /* on failure on_close still runs and leaves the room */
}

static int chat_data(sk_conn *c, const void *buf, size_t len)
{
    chat_member *m = sk_conn_state(c);
    const char *p = buf;
    size_t used = 0;

    deliver(c);
    while (used < len) {
        const char *nl = memchr(p + used, '\n', len - used);
        size_t n = nl ? (size_t)(nl - (p + used)) : len - used;
        if (nl == NULL && n < MAX_LINE)
            break; /* a partial line: wait for its end */
        if (n > MAX_LINE) {
            n = MAX_LINE;
            nl = NULL;
        }
        size_t text = n;
        if (text > 0 && p[used + text - 1] == '\r')
            text--;
        broadcast(m, p + used, text);
        used += n + (nl ? 1 : 0);
    }
    return (int)used;
}

static int chat_writable(sk_conn *c)
{
    deliver(c);
    return 0;
}

static int chat_watch(sk_conn *c, int fd, int events)
{
    chat_member *m = sk_conn_state(c);
    uint64_t n;
    (void)events;

    /* Reset the eventfd before taking the lock: a line queued after this
     * read either is seen below or writes the eventfd again. */
    ssize_t rc = read(fd, &n, sizeof n);
    (void)rc;
    pthread_mutex_lock(&m->room->mu);
    m->signalled = false;
    pthread_mutex_unlock(&m->room->mu);
    deliver(c);
    return 0;
}

/* A chat never ends by itself: on a drain each member gets what its inbox
 * holds (as far as the output buffer takes it) and is closed politely. */
static int chat_drain(sk_conn *c)
{
    deliver(c);
    sk_conn_close(c);
    return 0;
}

static void chat_close(sk_conn *c)
{
    chat_member *m = sk_conn_state(c);
    chat_room *r = m->room;

    if (r != NULL) {
        pthread_mutex_lock(&r->mu);
        if (m->prev)
            m->prev->next = m->next;
        else if (r->members == m)
            r->members = m->next;
        if (m->next)
            m->next->prev = m->prev;
        while (m->head) {
            chat_msg *next = m->head->next;
            free(m->head);
            m->head = next;
        }
        pthread_mutex_unlock(&r->mu);
        room_leave(r);
    }
    if (m->efd >= 0)
        close(m->efd);
}

const sk_service sk__service_chat = {
    .name = "chat",
    .summary = "each line goes to every other client, prefixed by the sender's 4-tuple",
    .conn_state_size = sizeof(chat_member),
    .on_open = chat_open,
    .on_data = chat_data,
    .on_writable = chat_writable,
    .on_close = chat_close,
    .on_watch = chat_watch,
    .one_process = true,
    .on_drain = chat_drain,
};
