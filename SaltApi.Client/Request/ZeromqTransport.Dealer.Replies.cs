using System.Buffers.Binary;
using NetMQ;
using SaltApi.Protocol.Channel;

namespace SaltApi.Client.Request;

internal sealed partial class ZeromqTransport
{
    /// <summary>The DEALER's replies: matched to their requests by id; envelope-less ones (Salt 3008's pooled device).</summary>
    private sealed partial class DealerWorker
    {
        /// <summary>Reads every reply there is (so the socket's mailbox signals the next one).</summary>
        private void Receive()
        {
            var msg = default(Msg);
            msg.InitEmpty();
            try
            {
                while (dealer.TryReceive(ref msg, TimeSpan.Zero))
                {
                    OnMessage(ref msg);
                }
            }
            finally
            {
                msg.Close();
            }
        }

        /// <summary>One message, its first frame in <paramref name="msg"/>: <c>[id][empty][reply]</c>, else dropped.</summary>
        private void OnMessage(ref Msg msg)
        {
            var frames = 1;
            uint id = 0;
            var shape = msg.Size switch
            {
                4 => Shape.Id,
                0 => Shape.NoEnvelope, // the master did not echo our envelope
                _ => Shape.Bad,
            };
            if (shape == Shape.Id)
            {
                id = BinaryPrimitives.ReadUInt32BigEndian(msg.Slice());
            }

            byte[]? body = null;
            var delimiterSeen = shape == Shape.NoEnvelope;
            while (msg.HasMore && dealer.TryReceive(ref msg, TimeSpan.Zero))
            {
                frames++;
                if (frames > MaxFrames)
                {
                    shape = Shape.Bad;
                }
                else if (!delimiterSeen)
                {
                    if (msg.Size == 0)
                    {
                        delimiterSeen = true;
                    }
                    else
                    {
                        shape = Shape.Bad; // an envelope of more than our id is not an answer to us
                    }
                }
                else if (body is null)
                {
                    // As Salt's clients: the first frame after the envelope is the reply.
                    body = msg.ToArray();
                }
            }

            if (shape == Shape.Bad || body is null)
            {
                return;
            }

            if (shape == Shape.NoEnvelope)
            {
                OnNoEnvelope(body);
                return;
            }

            if (pending.Remove(id, out var w))
            {
                w.Reply.TrySetResult(body);
            }

            // else a late reply (the request timed out or was cancelled): dropped
        }

        /// <summary>
        /// A reply with no envelope: the master's request device rebuilt the message around its own frames. Salt 3008's
        /// pooled device (zmq_device_pooled) takes the payload from the third frame, which under our envelope is the
        /// empty one: it answers <c>{"error": "Routing error"}</c> without running the request, and does so for every
        /// request sent on this socket. Those go over REQ sockets instead (they did not run, so sending them again runs
        /// them once), and so does every request from now on. Any other envelope-less answer cannot be matched to its
        /// request: those in flight fail.
        /// </summary>
        private void OnNoEnvelope(byte[] body)
        {
            var routingError = IsRoutingError(body);
            if (fellBack && routingError)
            {
                return; // the answer to another request already handed over
            }

            fellBack = true;
            var waiting = pending.Values.Concat(unsent).ToList();
            pending.Clear();
            unsent.Clear();
            foreach (var w in waiting)
            {
                if (routingError)
                {
                    w.Reached = false;
                    w.Attempt = 0;
                    Transport.FallBackToReq(w);
                }
                else
                {
                    w.Reply.TrySetException(new MasterGoneException());
                }
            }

            if (!routingError)
            {
                Transport.FallBackToReq(null);
            }
        }

        private static bool IsRoutingError(byte[] body)
        {
            try
            {
                return ClearEnvelope.DecodeReply(body) is IDictionary<string, object?> { Count: 1 } map
                    && map.TryGetValue("error", out var e) && e is "Routing error";
            }
            catch (Exception e) when (e is SaltApi.Protocol.Msgpack.SaltProtocolException or MessagePack.MessagePackSerializationException or EndOfStreamException)
            {
                return false;
            }
        }

        private enum Shape
        {
            Id,
            NoEnvelope,
            Bad,
        }
    }
}
